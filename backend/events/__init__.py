"""Events: webinars, meetups and learning sets, with RSVPs, a waiting list and invitations."""
