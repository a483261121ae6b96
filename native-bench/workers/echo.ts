/** The smallest useful Piscina task: returns what it got. Measures the round trip itself. */
export default function echo(value: number): number {
  return value;
}
