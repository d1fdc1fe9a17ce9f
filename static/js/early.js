// Loaded before the page is drawn: lets the CSS collapse the phone menu without a flash.
document.documentElement.classList.add("js");
