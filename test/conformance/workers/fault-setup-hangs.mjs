// A module whose setup() never settles: create() must not hang for it.
export function setup() {
  return new Promise(() => {});
}
