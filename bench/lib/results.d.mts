export function machine(): string;
export function writeSection(title: string, body: string): void;
