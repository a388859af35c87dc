// The WebSocket trading API verifies a signature over `payload.req_param` as the client wrote it:
// jsonMemberText must give back exactly the text that was sent — spacing, key order, escapes —
// for any JSON value, wherever the member sits and however the rest of the message is written.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonMemberText } from "../../src/gate/json-member-text";

describe("jsonMemberText", () => {
  it("gives the member's text as written, not as re-serialized", () => {
    const text =
      '{ "time": 1, "payload" : { "req_id":"a",  "req_param" :  { "b" : [1, 2.50, "}\\""], "a": null } , "x": 2 } }';
    expect(jsonMemberText(text, ["payload", "req_param"])).toBe(
      '{ "b" : [1, 2.50, "}\\""], "a": null }',
    );
    expect(jsonMemberText(text, ["payload", "req_id"])).toBe('"a"');
    expect(jsonMemberText(text, ["time"])).toBe("1");
  });

  it("is undefined when a member on the path is absent or not an object", () => {
    const text = '{"time":1,"payload":{"req_id":"a"},"list":[{"req_param":1}]}';
    expect(jsonMemberText(text, ["payload", "req_param"])).toBeUndefined();
    expect(jsonMemberText(text, ["nothing", "req_param"])).toBeUndefined();
    expect(jsonMemberText(text, ["time", "req_param"])).toBeUndefined();
    expect(jsonMemberText(text, ["list", "req_param"])).toBeUndefined();
  });

  it("takes the last of repeated names and decodes escaped names, as JSON.parse does", () => {
    const text = '{"payload":{"req_param":{"a":1},"req\\u005fparam":"second"}}';
    expect(JSON.parse(text).payload.req_param).toBe("second");
    expect(jsonMemberText(text, ["payload", "req_param"])).toBe('"second"');
  });

  it("finds any JSON value exactly, among any other members, however indented", () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.dictionary(
          fc.string().filter((k) => k !== "req_param"),
          fc.jsonValue(),
        ),
        fc.constantFrom(undefined, 1, 2, "\t"),
        fc.boolean(),
        (value, others, indent, last) => {
          const written = JSON.stringify(value, null, indent);
          const rest = JSON.stringify(others, null, indent).slice(1, -1).trim();
          const member = `"req_param" : ${written}`;
          const members = rest === "" ? [member] : last ? [rest, member] : [member, rest];
          const text = `{"time":1,"payload": {${members.join(" ,\n ")}} }`;
          // As written: JSON has no -0, so a generated -0 reads back as 0.
          expect(JSON.parse(text).payload.req_param).toEqual(JSON.parse(written));
          expect(jsonMemberText(text, ["payload", "req_param"])).toBe(written);
        },
      ),
      { numRuns: 500 },
    );
  });
});
