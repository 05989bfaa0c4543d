import { describe, expect, it, vi } from "vitest";
import { WizardState } from "./wizard.svelte";
import type { LayoutView } from "../bindings";
import type { HostReview } from "../ipc/types";

const view: LayoutView = {
  layout: { disk: {} },
  diagnostics: [],
  preview: "{ }",
  space: { plans: [], members: [] },
  disks: [],
  needs: { esp: true, bios_boot: false, gpt: true, disks: [] },
  nodes: [],
  summary: [],
  digest: "0",
};

const review: HostReview = {
  plan: {
    changes: [
      { path: "hosts/web/host.nix", action: { kind: "write", content: "" }, ownership: "absent", currentHash: null, diff: "" },
      { path: "hosts/web/disko.nix", action: { kind: "write", content: "" }, ownership: "edited", currentHash: "h", diff: "-a\n+b" },
    ],
    removeDirs: [],
    notes: [],
  },
  command: "nix run nixpkgs#nixos-anywhere -- --flake .#web",
  erase: [],
  preflight: { findings: [{ rule: "memory_low", severity: "warning", message: "little memory" }] },
  layoutDiagnostics: [],
  summary: [],
  // The gate as nixdeck_core::review::review_gate computes it from the above.
  blockers: [],
  toAcknowledge: [{ rule: "memory_low", severity: "warning", message: "little memory" }],
  toConfirm: ["hosts/web/disko.nix"],
  seen: [{ path: "hosts/web/disko.nix", currentHash: "h", proposedHash: "p" }],
  login: { kind: "open", key: "me" },
  diskSources: [{ file: "hosts/web/disko.nix", disks: ["/dev/vda"], error: null }],
  trust: {
    hostKey: { public: "ssh-ed25519 AAAA root@web", fingerprint: "SHA256:abc", recordedIn: "~/.ssh/known_hosts", knownAs: "192.0.2.7" },
    verified: ["checked"],
    notVerified: ["not checked"],
    luksVolumes: [],
    needsLuksPassphrase: false,
    blocked: null,
  },
};

function api() {
  return {
    checkHostIdentity: vi.fn(async () => []),
    pickFile: vi.fn(async () => "/home/me/.ssh/id_ed25519"),
    listSshKeys: vi.fn(async () => [{ source: "file" as const, label: "id_ed25519.pub", key: "ssh-ed25519 AAAA me" }]),
    previewConfiguration: vi.fn(async () => ({ text: "{ }", problem: null })),
    reviewNewHost: vi.fn(async () => review),
    writeNewHost: vi.fn(async () => ({ written: ["hosts/web/host.nix"], deleted: [], gitInitialised: false, notes: [] })),
    probeHost: vi.fn(async () => ({
      kind: "facts" as const,
      facts: { boot_mode: "bios", disks: [{ name: "vda", path: "/dev/vda", kind: "disk", size_bytes: 1 << 30, read_only: false, by_id: ["/dev/disk/by-id/virtio-1"], children: [], mountpoints: [] }] } as never,
      storedAt: "/r/.nixdeck/facts/web.json",
    })),
    hostFacts: vi.fn(async () => null),
    applyLayoutEdit: vi.fn(async () => ({ kind: "whole" as const, view })),
    layoutView: vi.fn(async () => ({ kind: "whole" as const, view })),
    layoutFromTemplate: vi.fn(async () => view),
    layoutFromRepo: vi.fn(async () => null),
    layoutTemplates: vi.fn(async () => []),
    startInstall: vi.fn(async () => ({ jobId: "job-1" })),
    recordHostFacts: vi.fn(async () => undefined),
  };
}

async function toLayout(w: WizardState) {
  w.identity.name = "web";
  w.identity.address = "127.0.0.1";
  w.identity.tags = "prod, eu";
  await w.next();
  await w.probeNow();
  w.probe.toggle("/dev/disk/by-id/virtio-1");
  await w.next();
}

describe("WizardState", () => {
  it("stays on identity while the backend reports problems, with each under its field", async () => {
    const a = api();
    a.checkHostIdentity.mockResolvedValueOnce([{ field: "name", message: "host name \"a b\" is not valid" }] as never);
    const w = new WizardState(a, "/r");
    w.identity.name = "a b";
    w.identity.address = "h";
    await w.next();
    expect(w.step).toBe("identity");
    expect(w.problem("name")).toContain("not valid");
    w.identity.name = "web";
    await w.next();
    expect(w.step).toBe("probe");
    expect(a.checkHostIdentity).toHaveBeenLastCalledWith("/r", { name: "web", address: "h", user: "root", port: 22, tags: [] });
  });

  it("going back keeps every step's data, and the step list jumps only to steps reached", async () => {
    const w = new WizardState(api(), "/r");
    await toLayout(w);
    expect(w.step).toBe("layout");
    await w.layout.fromTemplate("btrfs", w.probe.chosen);
    w.back();
    w.back();
    expect(w.step).toBe("identity");
    expect(w.identity.name).toBe("web");
    expect(w.tags).toEqual(["prod", "eu"]);
    expect(w.probe.facts).not.toBeNull();
    expect(w.probe.chosen).toEqual(["/dev/disk/by-id/virtio-1"]);
    expect(w.layout.view).toBe(view);
    w.goTo(4);
    expect(w.step).toBe("identity");
    w.goTo(2);
    expect(w.step).toBe("layout");
  });

  it("cannot leave the probe step without facts and a chosen disk", async () => {
    const w = new WizardState(api(), "/r");
    w.identity.name = "web";
    w.identity.address = "h";
    await w.next();
    expect(w.canContinue).toBe(false);
    await w.probeNow();
    expect(w.canContinue).toBe(false);
    w.probe.toggle("/dev/disk/by-id/virtio-1");
    expect(w.canContinue).toBe(true);
  });

  it("builds the host from every step, with the probed boot mode", async () => {
    const w = new WizardState(api(), "/r");
    await toLayout(w);
    await w.layout.fromTemplate("btrfs", w.probe.chosen);
    await w.next();
    expect(w.step).toBe("system");
    w.toggleKey("ssh-ed25519 AAAA me");
    w.system.packages = "git htop";
    const host = w.newHost();
    expect(host.config).toEqual({ hostName: "web", authorizedKeys: ["ssh-ed25519 AAAA me"], packages: ["git", "htop"], stateVersion: "25.05", bootMode: "bios" });
    expect(host.deployment.tags).toEqual(["prod", "eu"]);
    expect(host.layout).toBe(view.layout);
    expect(host.identityFile).toBeNull();
  });

  it("enables install only when nothing blocks and the host name is typed exactly, then writes and starts it", async () => {
    const a = api();
    const w = new WizardState(a, "/r");
    await toLayout(w);
    await w.layout.fromTemplate("btrfs", w.probe.chosen);
    await w.next();
    await w.next();
    expect(w.step).toBe("review");
    expect(w.canInstall).toBe(false);
    w.typedName = "web";
    expect(w.blockers).toEqual(["acknowledge: little memory", "confirm the change to hosts/web/disko.nix"]);
    w.acknowledge("memory_low", true);
    w.confirm("hosts/web/disko.nix", true);
    w.typedName = "Web";
    expect(w.canInstall).toBe(false);
    w.typedName = "web";
    expect(w.canInstall).toBe(true);
    expect(await w.install()).toBe("job-1");
    expect(a.writeNewHost).toHaveBeenCalledWith(w.newHost(), [{ path: "hosts/web/disko.nix", currentHash: "h", proposedHash: "p" }]);
    expect(a.recordHostFacts).toHaveBeenCalledWith("/r", "web", w.probe.facts);
    expect(a.startInstall).toHaveBeenCalledWith({
      repo: "/r",
      host: "web",
      confirm: "web",
      acknowledged: ["memory_low"],
      identityFile: null,
      allowLockout: false,
      secrets: { sshPassword: undefined, luksPassphrase: undefined, luksPassphraseAgain: undefined },
    });
    expect(w.step).toBe("install");
  });

  it("a layout that encrypts asks for the passphrase twice, sends it once and forgets it", async () => {
    const a = api();
    const luksReview = { ...review, toConfirm: [], toAcknowledge: [], trust: { ...review.trust, needsLuksPassphrase: true } };
    a.reviewNewHost.mockResolvedValue(luksReview);
    const w = new WizardState(a, "/r");
    await toLayout(w);
    await w.layout.fromTemplate("btrfs", w.probe.chosen);
    await w.next();
    await w.next();
    w.typedName = "web";
    expect(w.blockers).toEqual(["type the LUKS passphrase twice"]);
    w.secrets.luksPassphrase = "correct horse";
    w.secrets.luksPassphraseAgain = "correct hose";
    expect(w.blockers).toEqual(["the two LUKS passphrases differ"]);
    w.secrets.luksPassphraseAgain = "correct horse";
    expect(w.canInstall).toBe(true);
    expect(await w.install()).toBe("job-1");
    expect(a.startInstall).toHaveBeenCalledWith(
      expect.objectContaining({ secrets: { sshPassword: undefined, luksPassphrase: "correct horse", luksPassphraseAgain: "correct horse" } }),
    );
    expect(w.secrets).toEqual({ sshPassword: "", luksPassphrase: "", luksPassphraseAgain: "" });
  });

  it("an install that cannot start shows the error and reports no job", async () => {
    const a = api();
    a.startInstall.mockRejectedValueOnce({ code: "validation", message: "the install is blocked: too little memory", hint: null });
    const w = new WizardState(a, "/r");
    await toLayout(w);
    await w.layout.fromTemplate("btrfs", w.probe.chosen);
    await w.next();
    await w.next();
    w.acknowledge("memory_low", true);
    w.confirm("hosts/web/disko.nix", true);
    w.typedName = "web";
    expect(await w.install()).toBeNull();
    expect(w.error?.message).toContain("blocked");
  });

  it("a review that finds nobody could log in blocks until the person says they can", async () => {
    const a = api();
    a.reviewNewHost.mockResolvedValue({ ...review, login: { kind: "locked", reason: "no SSH key is authorized for root", fix: "add your public key" } });
    const w = new WizardState(a, "/r");
    await toLayout(w);
    await w.layout.fromTemplate("btrfs", w.probe.chosen);
    await w.next();
    await w.next();
    w.acknowledge("memory_low", true);
    w.confirm("hosts/web/disko.nix", true);
    w.typedName = "web";
    expect(w.canInstall).toBe(false);
    expect(w.blockers.some((b) => b.includes("nobody could log in"))).toBe(true);
    w.allowLockout = true;
    expect(w.canInstall).toBe(true);
    expect(await w.install()).toBe("job-1");
    expect(a.startInstall).toHaveBeenCalledWith(expect.objectContaining({ allowLockout: true }));
  });
});
