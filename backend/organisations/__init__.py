"""Organisations: NHS trusts, ICBs, practices and others that members work for."""
