"""Callbacks: payloads per dialect, signing, the retry policy and the delivery loop."""
