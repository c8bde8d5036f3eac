"""The explorer page's own styles (the data's styles come from its display module's CSS)."""

CSS = """
<style>
.block-container, [data-testid=stMainBlockContainer] { padding-top: 4.2rem; }
/* "Sliders shown" grows with its choices instead of scrolling (a half-cut last row hides sliders) */
.st-key-shown_dirs [data-testid=stMultiSelectTagsContainer],
.st-key-shown_dirs :has(> [data-testid=stMultiSelectTagsContainer]) {
  max-height: none !important; height: auto !important; overflow: visible !important; }
.px-caption { font-size: .8rem; opacity: .75; margin-top: 2px; }
.panel-title { margin: 0 0 .2rem 0; font-weight: 600; font-size: 1.05rem; }
.panel-help { font-size: .875rem; opacity: .65; margin-bottom: .6rem; line-height: 1.45; }
.inspector { display: flex; gap: 10px; align-items: flex-start; flex-wrap: wrap; }
.inspector-info { flex: 1; min-width: 180px; }
.inspected { font-size: 1.05rem; margin-bottom: 4px; }
.inspector details summary { cursor: pointer; font-size: .8rem; opacity: .75; margin-top: 4px; }
.zvec { display: block; font-size: .7rem; white-space: normal; word-break: break-all; }
.zrow { display: flex; gap: 1px; align-items: flex-end; }
.zcell { position: relative; width: 14px; height: 56px; }
.zcell.faded { opacity: .35; }
.zcell::after { content: ""; position: absolute; left: 0; right: 0; top: 28px; height: 1px; background: rgba(128,128,128,.5); }
.zbar { position: absolute; left: 2px; width: 10px; border-radius: 2px; background: #4e79a7; }
.zbar.neg { background: #e15759; }
.zlabel { width: 14px; text-align: center; font-size: .6rem; opacity: .6; }
</style>
"""
