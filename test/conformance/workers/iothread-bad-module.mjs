// A module whose setup fails: IOThread.create must reject with this message.
export function setup() {
  throw new Error('setup refused: bad configuration');
}
