import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ImageOriginsProvider } from "../image-policy";
import { Markdown } from "../markdown";

describe("Markdown", () => {
  it("highlights fenced code with the bundled grammars", () => {
    const { container } = render(<Markdown>{"```python\ndef f():\n    return 1\n```"}</Markdown>);
    const code = container.querySelector("pre code");
    expect(code).toHaveClass("hljs", "language-python");
    expect(code?.querySelector(".hljs-keyword")).toHaveTextContent("def");
  });

  it("renders GitHub-flavoured lists and tables", () => {
    const { container } = render(<Markdown>{"- **a**\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |"}</Markdown>);
    expect(container.querySelectorAll("li")).toHaveLength(2);
    expect(container.querySelector("strong")).toHaveTextContent("a");
    expect(container.querySelector("table td")).toHaveTextContent("1");
  });

  it("never renders raw HTML from the model", () => {
    const { container } = render(
      <Markdown>{'hi <img src=x onerror="alert(1)"> <script>alert(2)</script>'}</Markdown>,
    );
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
  });

  it("opens links in a new tab without the opener", () => {
    const { container } = render(<Markdown>{"[docs](https://example.com)"}</Markdown>);
    const link = container.querySelector("a");
    expect(link).toHaveAttribute("target", "_blank");
    expect(link?.getAttribute("rel")).toContain("noopener");
  });

  it("loads images only from this origin; others become a link naming the host", () => {
    const { container } = render(
      <Markdown>{"![logo](/favicon.svg) ![x](http://canary.test:9/c?d=secret)"}</Markdown>,
    );
    const images = container.querySelectorAll("img");
    expect(images).toHaveLength(1);
    expect(images[0].getAttribute("src")).toBe(`${window.location.origin}/favicon.svg`);
    const blocked = container.querySelector("[data-testid=blocked-image]");
    expect(blocked?.tagName).toBe("A");
    expect(blocked).toHaveTextContent("Image from canary.test:9 not loaded: x");
    expect(blocked).toHaveAttribute("href", "http://canary.test:9/c?d=secret");
    expect(blocked).toHaveAttribute("target", "_blank");
    expect(blocked?.getAttribute("rel")).toContain("noreferrer");
  });

  it("loads images from configured origins", () => {
    const { container } = render(
      <ImageOriginsProvider origins={["https://img.example.com/"]}>
        <Markdown>
          {"![a](https://img.example.com/a.png) ![b](https://img.example.com.evil.test/b.png)"}
        </Markdown>
      </ImageOriginsProvider>,
    );
    const images = container.querySelectorAll("img");
    expect(images).toHaveLength(1);
    expect(images[0]).toHaveAttribute("src", "https://img.example.com/a.png");
    expect(images[0]).toHaveAttribute("referrerpolicy", "no-referrer");
    expect(container.querySelectorAll("[data-testid=blocked-image]")).toHaveLength(1);
  });
});
