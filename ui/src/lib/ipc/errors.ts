import type { ApiError } from "../bindings";

/** Whether a rejection came from one of nixdeck's commands (rather than the bridge itself). */
export function isIpcError(value: unknown): value is ApiError {
  return (
    typeof value === "object" &&
    value !== null &&
    "code" in value &&
    "message" in value &&
    typeof (value as { message: unknown }).message === "string"
  );
}

/** Any rejection as an `ApiError`, so the UI shows every failure the same way. */
export function toIpcError(value: unknown): ApiError {
  if (isIpcError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return { code: "internal", message, hint: null };
}
