"""The colour arithmetic of WCAG 2.x for the scripts that the browser tests run in a page:
`rgb(cssColour)` gives [r, g, b] (and the alpha when there is one), `contrast(one,
other)` the ratio of two such colours, and `behind(element)` the nearest solid background
of the element or its parents (the page's white when none has one: the app draws no text
over images or gradients)."""

COLOUR_FUNCTIONS = """
  const rgb = colour => colour.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const contrast = (one, other) => {
    const [a, b] = [luminance(one), luminance(other)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const behind = element => {
    for (let e = element; e; e = e.parentElement) {
      const colour = rgb(getComputedStyle(e).backgroundColor);
      if (colour.length < 4 || colour[3] > 0.5) return colour;
    }
    return [255, 255, 255];
  };
"""


def page_function(body: str) -> str:
    """A function for page.evaluate (its one argument is `argument`): the colour functions,
    then `body`."""
    return "(argument) => {" + COLOUR_FUNCTIONS + body + "}"
