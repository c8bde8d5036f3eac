"""Page 3: the sample gallery and its downloads (ui/gallery.py)."""
from ui import gallery

gallery.page()
