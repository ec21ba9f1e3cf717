"""The synthetic music engine (procedural, not AI): songs, stems, MIDI, lyrics and music videos."""
