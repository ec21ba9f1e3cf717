"""The Aleph family (spec §1.4): video-to-video restyling."""
