/**
 * The schema a query's results will have, worked out from its plan and the table's schema without
 * running it (LanceDB's `outputSchema()`): selected columns keep their table types, computed
 * columns take their expression's type, and the columns a search adds are typed as in
 * src/arrow/results.ts.
 */
import type { Field, Schema } from "../data/schema.js";
import type { OnDemandKit } from "./on-demand-kit.js";
import type { QueryPlan } from "./plan.js";

export function outputSchemaOf(k: OnDemandKit, plan: QueryPlan, table: Schema): Schema {
  const { DataTypes, compileExpression, findField, unknownColumn } = k;
  const fields: Field[] = [];
  const select = plan.select;
  if (select === undefined) fields.push(...table.fields);
  else if (Array.isArray(select)) {
    for (const name of select as readonly string[]) fields.push(findField(table, name) ?? unknownColumn(table, name, "select()"));
  } else {
    // Results carry the plain columns first, then the computed ones (src/query/execute.ts).
    const computed: Field[] = [];
    for (const [out, sql] of Object.entries(select as Readonly<Record<string, string>>)) {
      const column = findField(table, sql);
      if (column) fields.push({ ...column, name: out });
      else computed.push({ name: out, type: compileExpression(sql, table).type, nullable: true });
    }
    fields.push(...computed);
  }
  const added = (name: string, type: Field["type"]): void => void fields.push({ name, type, nullable: true });
  if (plan.vector !== undefined && plan.fullText !== undefined) added("_relevance_score", DataTypes.float32());
  else if (plan.vector !== undefined) added("_distance", DataTypes.float32());
  else if (plan.fullText !== undefined) added("_score", DataTypes.float32());
  if (plan.vector !== undefined && plan.vector.queries.length > 1) added("_query_index", DataTypes.int32());
  if (plan.withRowId) added("_rowid", DataTypes.int64());
  return { fields };
}
