// Placeholder until the tokenizer lands.
