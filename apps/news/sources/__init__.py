"""News source adapters: one small module per kind behind :class:`base.NewsSourceAdapter`."""
