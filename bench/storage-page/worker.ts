import { tasks, type Tasks } from "./tasks.js";

onmessage = async (event: MessageEvent<{ id: number; name: keyof Tasks; args: unknown[] }>) => {
  const { id, name, args } = event.data;
  try {
    const result = await (tasks[name] as (...a: unknown[]) => Promise<unknown>)(...args);
    postMessage({ id, result });
  } catch (error) {
    postMessage({ id, error: String((error as Error)?.stack ?? error) });
  }
};
postMessage({ ready: true });
