"""peerbridge's domain: accounts, members, organisations, skills, mentoring and the rest."""
