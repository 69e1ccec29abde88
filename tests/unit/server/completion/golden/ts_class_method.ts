import { EventEmitter } from "events";

interface Job {
  id: string;
  run(): Promise<void>;
}

export class Queue extends EventEmitter {
  private jobs: Job[] = [];

  add(job: Job): void {
    this.jobs.push(job);
    this.emit("added", job.id);
  }

  async drain(): Promise<number> {
    let done = 0;
    while (this.jobs.length > 0) {
      const job = this.jobs.shift()!;
      <|cursor|>
    }
    return done;
  }
}
