"""reelserve: a self-hosted asynchronous video-generation API that speaks KIE.AI's wire format."""

__version__ = "0.1.0"
