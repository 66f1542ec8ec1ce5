// A module whose setup() throws after creating a bottom half: the slot must come back anyway.
export function setup(ctx) {
  ctx.bh(() => {}, { name: 'left-by-failed-setup' });
  throw new Error('setup failed on purpose');
}
