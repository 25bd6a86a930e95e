// The settings page's activity log: the last dozen things that happened, newest first.

import { $ } from './dom.js';

const KEPT = 12;

export function log(text: string): void {
  const list = $('activity-log');
  const item = document.createElement('li');
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  item.append(time, text);
  list.prepend(item);
  while (list.children.length > KEPT) list.lastElementChild?.remove();
}
