/** Where the window is. Screens ask this to move; App.svelte draws the current one. */
export type Screen =
  | { kind: "start" }
  | { kind: "repo" }
  /** The new-host wizard; `host` set when re-installing an existing host. */
  | { kind: "wizard"; host?: string }
  | { kind: "host"; name: string }
  | { kind: "job"; id: string };

export class NavState {
  screen = $state.raw<Screen>({ kind: "start" });

  go(screen: Screen): void {
    this.screen = screen;
  }
}
