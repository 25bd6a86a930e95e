// Small DOM helpers the settings page's sections share.

/** The element with this id; the page's HTML has every one the scripts use. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

/** A new element with a class and a text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A time of day today, else a date and time. */
export function seen(epochMs: number): string {
  const date = new Date(epochMs);
  return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

/**
 * One row per item in `list`, in the items' order, reusing the rows already there (found by
 * their `data-<attribute>`), so an update never takes keyboard focus away nor stops what a row
 * plays. `make` creates a row for a new item; `fill` brings a row up to date.
 */
export function keyedRows<T>(
  list: HTMLElement,
  attribute: string,
  items: T[],
  key: (item: T) => string,
  make: (item: T) => HTMLLIElement,
  fill: (row: HTMLLIElement, item: T) => void,
): void {
  const rows = new Map<string, HTMLLIElement>();
  for (const row of list.querySelectorAll<HTMLLIElement>(`li[data-${attribute}]`)) rows.set(row.getAttribute(`data-${attribute}`) ?? '', row);
  let previous: HTMLLIElement | null = null;
  for (const item of items) {
    const id = key(item);
    const row = rows.get(id) ?? make(item);
    rows.delete(id);
    row.setAttribute(`data-${attribute}`, id);
    fill(row, item);
    const anchor: ChildNode | null = previous ? previous.nextSibling : list.firstChild;
    if (row !== anchor) list.insertBefore(row, anchor);
    previous = row;
  }
  for (const row of rows.values()) row.remove();
}
