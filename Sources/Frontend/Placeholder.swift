// Placeholder until lifting lands.
