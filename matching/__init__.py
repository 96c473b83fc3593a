"""peerbridge's matcher: a pure library (scikit-learn / numpy), no database and no web."""
