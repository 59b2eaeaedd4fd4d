// Completions for the search box: the engine's completion suggester, through /suggest/,
// fills the box's <datalist> as the user types.
const box = document.getElementById("q");
const list = document.getElementById("completions");
let pending;

box.addEventListener("input", () => {
  clearTimeout(pending);
  pending = setTimeout(async () => {
    const prefix = box.value.trim();
    if (prefix.length < 2) {
      list.replaceChildren();
      return;
    }
    const response = await fetch(`${box.dataset.suggestUrl}?q=${encodeURIComponent(prefix)}`);
    const { suggestions } = await response.json();
    list.replaceChildren(...suggestions.map((name) => new Option(name, name)));
  }, 150);
});
