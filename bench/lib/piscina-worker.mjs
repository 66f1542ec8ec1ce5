// piscina / tinypool task: returns its argument.
export default function echo(v) {
  return v;
}
