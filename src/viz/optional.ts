/**
 * The plotting and rasterising packages are optional peer dependencies: the library itself
 * never needs them, only the report (vega, vega-lite) and PNG output (@resvg/resvg-js) do.
 * They are loaded here, on first use, with a dynamic import; a missing one becomes an error
 * that names the package to install.
 */

export class MissingOptionalDependency extends Error {
  constructor(
    readonly pkg: string,
    readonly feature: string,
  ) {
    super(`${feature} needs the optional package "${pkg}": install it with \`npm install ${pkg}\``);
    this.name = "MissingOptionalDependency";
  }
}

/** Imports an optional package, or throws MissingOptionalDependency naming it and what needs it. */
export async function loadOptional<T>(pkg: string, feature: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      throw new MissingOptionalDependency(pkg, feature);
    throw e;
  }
}
