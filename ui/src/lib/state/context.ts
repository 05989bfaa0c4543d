// Typed context tokens: App.svelte provides one instance of each state class,
// components take them from here instead of importing singletons.
import { getContext, setContext } from "svelte";

export function defineContext<T>(name: string): { set: (value: T) => T; get: () => T } {
  const key = Symbol(name);
  return {
    set: (value) => setContext(key, value),
    get: () => {
      const value = getContext<T | undefined>(key);
      if (value === undefined) throw new Error(`${name} is not provided by an ancestor`);
      return value;
    },
  };
}
