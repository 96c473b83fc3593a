"""The skills framework: seed skills, core management skills, Healthcare Leadership Model."""
