"""What a vendor's team hears about: one email per event, or one digest a day."""
