"""File uploads (spec §3): validation rules, streaming receivers, the upload service."""
