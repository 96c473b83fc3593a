"""Development opportunities: a catalogue matched to each member."""
