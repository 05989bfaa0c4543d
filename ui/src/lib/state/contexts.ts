import { defineContext } from "./context";
import type { DoctorState } from "./doctor.svelte";
import type { NavState } from "./nav.svelte";
import type { RecentState } from "./recent.svelte";
import type { SessionState } from "./session.svelte";

export const doctorContext = defineContext<DoctorState>("DoctorState");
export const recentContext = defineContext<RecentState>("RecentState");
export const sessionContext = defineContext<SessionState>("SessionState");
export const navContext = defineContext<NavState>("NavState");

// fleet
import type { FleetState, FleetStatus } from "./fleet.svelte";
import type { JobHistory } from "./jobs.svelte";
export const fleetContext = defineContext<FleetState>("FleetState");
export const statusContext = defineContext<FleetStatus>("FleetStatus");
export const historyContext = defineContext<JobHistory>("JobHistory");
