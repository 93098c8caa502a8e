// What an SDK call showed its caller: its result, or the error as the client saw it (the
// SDK's error class, status, message, retry-after header, error body), for comparing a run
// through the recorder with a run straight to the model server.

// What a failed call showed the client.
export function seenError(e) {
  return {
    class: e.constructor.name,
    status: e.status ?? null,
    message: e.message,
    retryAfter: e.headers?.get?.('retry-after') ?? null,
    body: e.error ?? null,
  };
}

export async function outcome(call) {
  try {
    return { ok: await call() };
  } catch (e) {
    return { error: seenError(e) };
  }
}
