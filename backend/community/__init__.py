"""The community space: sharing learning, moderation, peer circles and peer connect."""
