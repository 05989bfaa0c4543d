import { describe, expect, it, vi } from "vitest";
import { ProbeState } from "./probe.svelte";
import type { BlockDevice, HostFacts } from "../bindings";
import type { ProbeRequest } from "../ipc/types";

function disk(name: string, byId: string[], extra: Partial<BlockDevice> = {}): BlockDevice {
  return {
    name, path: `/dev/${name}`, size_bytes: 20 * 2 ** 30, kind: "disk", model: "QEMU HARDDISK   ", serial: "S1", wwn: null,
    transport: "sata", rotational: false, removable: false, read_only: false, fstype: null, label: null, uuid: null,
    partlabel: null, pttype: null, mountpoints: [], by_id: byId, children: [], ...extra,
  };
}

const facts = { disks: [disk("sda", ["/dev/disk/by-id/ata-A"]), disk("zram0", []), disk("sr0", [], { read_only: true })] } as unknown as HostFacts;
const request: Omit<ProbeRequest, "trustFingerprint"> = {
  repo: "/r", host: "web", address: "127.0.0.1", user: "root", port: 22, auth: { kind: "password", password: "hunter2" },
};

describe("ProbeState", () => {
  it("stops at an unknown host key and trusts exactly the fingerprint the person accepted", async () => {
    const probeHost = vi
      .fn()
      .mockResolvedValueOnce({ kind: "unknown_host_key", host: "[127.0.0.1]:22", fingerprint: "SHA256:abc", keyType: "ssh-ed25519", hint: "compare it" })
      .mockResolvedValueOnce({ kind: "facts", facts, storedAt: "/r/.nixdeck/facts/web.json" });
    const probe = new ProbeState({ probeHost, hostFacts: vi.fn() });
    await probe.run(request);
    expect(probe.status).toBe("host_key");
    expect(probe.hostKey?.fingerprint).toBe("SHA256:abc");
    expect(probeHost.mock.calls[0][0].trustFingerprint).toBeNull();
    await probe.acceptHostKey();
    expect(probeHost.mock.calls[1][0].trustFingerprint).toBe("SHA256:abc");
    expect(probeHost.mock.calls[1][0].auth).toEqual({ kind: "password", password: "hunter2" });
    expect(probe.status).toBe("done");
    expect(probe.candidates.map((d) => d.name)).toEqual(["sda"]);
  });

  it("refusing the host key fails in words without logging in", async () => {
    const probeHost = vi.fn().mockResolvedValue({ kind: "unknown_host_key", host: "h", fingerprint: "SHA256:x", keyType: "ssh-rsa", hint: "" });
    const probe = new ProbeState({ probeHost, hostFacts: vi.fn() });
    await probe.run(request);
    probe.refuseHostKey();
    expect(probe.status).toBe("failed");
    expect(probe.error?.message).toContain("refused the host key");
    expect(probeHost).toHaveBeenCalledOnce();
  });

  it("keeps a mismatch as the backend's error with its way out", async () => {
    const probeHost = vi.fn().mockRejectedValue({ code: "host_key_mismatch", message: "the host key has CHANGED", hint: "ssh-keygen -R" });
    const probe = new ProbeState({ probeHost, hostFacts: vi.fn() });
    await probe.run(request);
    expect(probe.status).toBe("failed");
    expect(probe.error).toEqual({ code: "host_key_mismatch", message: "the host key has CHANGED", hint: "ssh-keygen -R" });
  });

  it("chooses disks by stable name, and a re-probe forgets disks that are gone", async () => {
    const probeHost = vi
      .fn()
      .mockResolvedValueOnce({ kind: "facts", facts, storedAt: "f" })
      .mockResolvedValueOnce({ kind: "facts", facts: { disks: [] }, storedAt: "f" });
    const probe = new ProbeState({ probeHost, hostFacts: vi.fn() });
    await probe.run(request);
    probe.toggle("/dev/disk/by-id/ata-A");
    expect(probe.chosen).toEqual(["/dev/disk/by-id/ata-A"]);
    probe.toggle("/dev/disk/by-id/ata-A");
    expect(probe.chosen).toEqual([]);
    probe.toggle("/dev/disk/by-id/ata-A");
    await probe.run(request);
    expect(probe.chosen).toEqual([]);
  });
});
