import { describe, expect, it } from "vitest";
import {
  commandLoaders,
  commandSummaries,
} from "../../../../pipelines/src/surfaces/cli/commands/index.ts";
import { buildProgram, requestedCommand } from "../../../../pipelines/src/surfaces/cli/main.ts";

describe("the tiers program", () => {
  it("finds the requested command past global options and their values", () => {
    const valueFlags = new Set(["--root"]);
    expect(
      requestedCommand(["--root", "/repo", "--no-color", "validate", "--json"], valueFlags),
    ).toBe("validate");
    expect(requestedCommand(["--help"], valueFlags)).toBeUndefined();
    expect(requestedCommand(["env", "test", "run"], valueFlags)).toBe("env");
  });

  it("reads which global options take a value from the program itself", async () => {
    // `--root`'s value names a directory that happens to be called like a command.
    const program = await buildProgram(["node", "tiers", "--root", "status", "validate"]);
    expect(program.commands.map((c) => c.name())).toEqual(["validate"]);
  });

  it("loads only the command being run", async () => {
    const program = await buildProgram(["node", "tiers", "--root", ".", "validate"]);
    expect(program.commands.map((c) => c.name())).toEqual(["validate"]);
  });

  it("loads every command, in loader order, for help or an unknown word", async () => {
    for (const argv of [
      ["node", "tiers", "--help"],
      ["node", "tiers", "validat"],
    ]) {
      const program = await buildProgram(argv);
      expect(program.commands.map((c) => c.name())).toEqual(Object.keys(commandLoaders));
    }
  });

  it("lists help from the summaries alone: no command module (so no engine) is loaded", async () => {
    expect(Object.keys(commandSummaries)).toEqual(Object.keys(commandLoaders));
    const program = await buildProgram(["node", "tiers", "--help"]);
    for (const command of program.commands) {
      expect(command.summary()).toBe(commandSummaries[command.name()]);
      // A loaded command declares its options; a listed-only one has none.
      expect(command.options, command.name()).toEqual([]);
    }
  });

  it("loads the real command for `tiers help <command>`", async () => {
    const program = await buildProgram(["node", "tiers", "help", "validate"]);
    expect(program.commands.map((c) => c.name())).toEqual(["validate"]);
    expect(program.commands[0]!.options.length).toBeGreaterThan(0);
  });

  it("registers each command under the name its loader is keyed by", async () => {
    for (const name of Object.keys(commandLoaders)) {
      const program = await buildProgram(["node", "tiers", name]);
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    }
  });
});

describe("help", () => {
  it("shows at least one example on every command", async () => {
    for (const name of Object.keys(commandLoaders)) {
      const program = await buildProgram(["node", "tiers", name]);
      const command = program.commands[0]!;
      let help = "";
      command.configureOutput({ writeOut: (text) => (help += text), writeErr: () => {} });
      command.outputHelp();
      expect(help, `tiers ${name} --help`).toMatch(/\$ tiers /);
    }
  });
});
