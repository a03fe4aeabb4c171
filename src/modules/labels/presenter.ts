import type { LabelRow } from './service.js';

/** api/v1/accounts/labels/show.json.jbuilder (and each entry of index's payload). */
export function presentLabel(label: LabelRow): Record<string, unknown> {
  return {
    id: label.id,
    title: label.title,
    description: label.description,
    color: label.color,
    show_on_sidebar: label.show_on_sidebar === null ? null : label.show_on_sidebar === 1,
  };
}
