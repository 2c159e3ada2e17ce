/** Runs a service as a process: start it, stop it cleanly on SIGINT/SIGTERM, exit 1 on a failed start. */
import { ConfigError } from '../config.js';

export interface StoppableService {
  url: string;
  close(): Promise<void>;
}

export async function runService(
  name: string,
  start: () => Promise<StoppableService>,
): Promise<void> {
  let service: StoppableService;
  try {
    service = await start();
  } catch (error) {
    if (error instanceof ConfigError) console.error(`${name}: ${error.message}`);
    else console.error(`${name}: failed to start`, error);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${name}: ${signal} received, stopping`);
    try {
      await service.close();
      process.exit(0);
    } catch (error) {
      console.error(`${name}: error while stopping`, error);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
