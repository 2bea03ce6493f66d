// Placeholder until the pass manager lands.
