"""Messages between the two sides of a mentorship and within a peer circle."""
