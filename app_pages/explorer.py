"""Page 1: the map, the live decoder, its sliders and the tools (ui/explorer.py)."""
from ui import explorer

explorer.page()
