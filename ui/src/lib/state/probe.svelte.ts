import type { Commands } from "../ipc/commands";
import { toIpcError } from "../ipc/errors";
import type { ApiError, BlockDevice, HostFacts } from "../bindings";
import type { ProbeRequest } from "../ipc/types";

export type ProbeStatus = "idle" | "connecting" | "host_key" | "done" | "failed";

/** The connect-and-probe step: the probe, the host-key question, the chosen disks. */
export class ProbeState {
  status = $state<ProbeStatus>("idle");
  facts = $state.raw<HostFacts | null>(null);
  storedAt = $state<string | null>(null);
  hostKey = $state.raw<{ host: string; fingerprint: string; keyType: string; hint: string } | null>(null);
  error = $state.raw<ApiError | null>(null);
  /** Stable names (`/dev/disk/by-id/…`) of the disks chosen as install targets. */
  chosen = $state<string[]>([]);
  private request: ProbeRequest | null = null;

  constructor(private readonly api: Pick<Commands, "probeHost" | "hostFacts">) {}

  /** Probes; an unknown host key stops at the `host_key` status for the person to decide. */
  async run(request: Omit<ProbeRequest, "trustFingerprint">): Promise<void> {
    this.request = { ...request, trustFingerprint: null };
    await this.send();
  }

  /** The person compared the fingerprint and trusts it: probe again, trusting exactly that key. */
  async acceptHostKey(): Promise<void> {
    if (!this.request || !this.hostKey) return;
    this.request = { ...this.request, trustFingerprint: this.hostKey.fingerprint };
    this.hostKey = null;
    await this.send();
  }

  refuseHostKey(): void {
    this.hostKey = null;
    this.status = "failed";
    this.error = {
      code: "host_key_unknown",
      message: "You refused the host key, so nixdeck did not log in.",
      hint: "Compare the fingerprint with the one your provider's console shows, then connect again.",
    };
  }

  toggle(disk: string): void {
    this.chosen = this.chosen.includes(disk) ? this.chosen.filter((d) => d !== disk) : [...this.chosen, disk];
  }

  /** Disks that can be install targets (drawing only: whole, writable, non-empty devices). */
  get candidates(): BlockDevice[] {
    return (this.facts?.disks ?? []).filter(
      (d) => (d.kind === "disk" || d.kind === "loop") && d.size_bytes > 0 && !d.read_only && !d.name.startsWith("zram"),
    );
  }

  private async send(): Promise<void> {
    if (!this.request) return;
    this.status = "connecting";
    this.error = null;
    try {
      const outcome = await this.api.probeHost(this.request);
      if (outcome.kind === "unknown_host_key") {
        this.hostKey = outcome;
        this.status = "host_key";
      } else {
        this.facts = outcome.facts;
        this.storedAt = outcome.storedAt;
        const names = new Set(this.candidates.map((d) => d.by_id[0] ?? d.path));
        this.chosen = this.chosen.filter((d) => names.has(d));
        this.status = "done";
      }
    } catch (err) {
      this.error = toIpcError(err);
      this.status = "failed";
    } finally {
      // The password is not kept once it was used.
      if (this.request?.auth.kind === "password" && this.status !== "host_key") {
        this.request = { ...this.request, auth: { kind: "password", password: "" } };
      }
    }
  }
}

/** The name a layout should use for a disk: its best by-id link, else its path. */
export function stableName(disk: BlockDevice): string {
  return disk.by_id[0] ?? disk.path;
}
