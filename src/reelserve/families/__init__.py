"""KIE families: one package per wire dialect (routes, schemas, record views, callbacks)."""
