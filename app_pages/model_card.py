"""Page 2: the bundle's model card (ui/model_card.py)."""
from ui import model_card

model_card.page()
