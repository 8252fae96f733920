export {};

// --- recipes, tasks, demo ---
