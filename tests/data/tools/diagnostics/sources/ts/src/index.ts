const greeting: string = "héllo 😀 日本"; const n: number = "ä";
function f(a: { x: { y: number } }) { return a.x; }
f({ x: { y: "no" } });
let unusedButFine = greeting;
const p: Promise<number> = Promise.resolve("s");
