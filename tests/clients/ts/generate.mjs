// Generate TypeScript types from an OpenAPI document with openapi-typescript, the way a mobile team would.
// `format: binary` parts and responses become Blob (the openapi-typescript documentation's recipe), so a
// multipart upload carries a real file.
//
//   node generate.mjs <openapi.json> <out.d.ts>
import fs from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [specPath, outPath] = process.argv.slice(2);
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));

const ast = await openapiTS(JSON.parse(fs.readFileSync(specPath, "utf8")), {
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return BLOB;
    }
    return undefined;
  },
});
fs.writeFileSync(outPath, astToString(ast));
