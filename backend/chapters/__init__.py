"""Chapters of the network (regional, or an integrated care system) and organisers' scopes."""
