// The scripted model's answers for the faults scenario of each client in clients/ (one
// line per call the client makes): errors with retry-after that the client retries, a 500, a
// stream dropped after two events, then a normal answer. The record and replay tests share them.
export const openaiFaults = [
  { fault: { kind: 'http', status: 429, message: 'slow down', retry_after: 1 } },
  { fault: { kind: 'http', status: 429, message: 'slow down', retry_after: 1 } },
  { text: 'after the retry' },
  { fault: { kind: 'http', status: 500, message: 'scripted failure' } },
  { text: 'never finished, cut after two events', fault: { kind: 'drop', after_events: 2 } },
  { text: 'still serving' },
];

export const anthropicFaults = [
  { fault: { kind: 'http', status: 529, message: 'overloaded', retry_after: 1 } },
  { text: 'after the retry' },
  { fault: { kind: 'http', status: 429, message: 'slow down', retry_after: 1 } },
  { fault: { kind: 'http', status: 500, message: 'scripted failure' } },
  { text: 'never finished, cut after two events', fault: { kind: 'drop', after_events: 2 } },
  { text: 'still serving' },
];
